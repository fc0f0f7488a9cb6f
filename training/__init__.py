"""Training, evaluation and calibration of the project's NLI cross-encoder."""
