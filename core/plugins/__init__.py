"""Code from outside BatchLab that BatchLab loads: job types from a team's own package."""
