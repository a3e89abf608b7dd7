"""Training data: talking-face clips prepared into cue targets, from video or synthesised."""
