"""Submissions: campaigns, who may read what (``access``), receiving an upload body and the
intake that stores and checks it. Imports core, store and media."""
