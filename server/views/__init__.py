"""HTTP views, one module per subject."""
