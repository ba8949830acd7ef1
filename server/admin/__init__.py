"""District administration: structure, kiosks, staff, catalog editing and the audit log.

One service layer serves the /admin pages' API (views) and the `jinglin` commands (cli).
"""
