"""mediacheck: check media submissions against versioned campaign profiles.

The pure core (``units``, ``facts``, ``profiles``, ``checks``, ``report``) turns probe
output into normalized facts, judges them against a profile and builds a report. The
edges (``process`` runs ffmpeg/ffprobe, ``probe`` gathers facts from a file) are the
only modules that touch the outside world.
"""

__version__ = "0.1.0"
