"""The reviewers' side: verdicts after waivers, the review trail (ledger), what a campaign's
board shows, its pages, the spreadsheet export and browser sessions. Imports core, store,
media and submissions."""
