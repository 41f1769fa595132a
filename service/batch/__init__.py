"""Batch checking of a folder or zip: the entries, the per-file task, the local pool and the RQ
queue, what a run already did, the runner, the summaries and their pages. Imports core,
store, media and fix; never the web stack."""
