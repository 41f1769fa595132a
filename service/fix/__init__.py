"""Auto-fix: the plan (pure: what to do and why), the frame, the bitrate, the ffmpeg command
lines, carrying the plan out (``transcode``), photo fixes, and a submission's fix seen from
the service. Imports core, store and media."""
