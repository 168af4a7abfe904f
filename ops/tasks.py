from celery import shared_task


@shared_task
def review_schedules_task() -> int:
    """Draw the weekly review batches that are due."""
    from .services.review import scheduled_batches_create

    return len(scheduled_batches_create())
