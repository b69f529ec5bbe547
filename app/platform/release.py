"""Which release this code is; the validation report and inspection exports name it."""

VERSION = "0.5.0"
