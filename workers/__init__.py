"""RQ jobs and the worker that runs them: the spam check of each comment."""
