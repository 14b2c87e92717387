"""Built-in network architectures (torch is imported only inside these modules)."""
