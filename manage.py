#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.embedded import manage_env

    # Finds the embedded servers of var/ (those of a running `make run`, or its own).
    manage_env()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
