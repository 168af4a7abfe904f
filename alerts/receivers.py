def model_created(sender, instance, created: bool, **kwargs) -> None:
    if created and not kwargs.get("raw"):
        from .services.rules import rules_create_default

        rules_create_default(model=instance)
