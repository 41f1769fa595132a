"""Auto-fix: the plan (pure: what to do and why; ``plan`` the data, ``planner`` the entry,
``video_plan`` remux or re-encode, ``photo_plan``), the frame, the bitrate, the ffmpeg command
lines, carrying the plan out (``transcode``), photo fixes, and a submission's fix seen from
the service. Imports core, store and media."""
