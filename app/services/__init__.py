"""Domain logic: one function per use case, shared by the pages, the API and the jobs."""
