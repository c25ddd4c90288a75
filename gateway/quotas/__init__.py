"""Publishing quotas per connected account: usage in the rolling window and when it frees up."""
