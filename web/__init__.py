"""The pages' templates (`templates/`) and static files (`static/`).

A package only so that an installed wheel carries them: the server finds them through this
module's location, never through the source tree.
"""
