"""Moving images between the store and registries: pull, push and their progress records.

``progress`` builds dockerd's progress objects; ``downloads`` shares and limits blob
downloads between pulls; ``pull`` and ``push`` drive the registry client against the store.
"""
