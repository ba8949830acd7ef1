"""Service hours: the working calendar of each centre, availability at the kiosk and the clock."""
