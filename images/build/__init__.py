"""The classic builder: the Dockerfile language, the build context and the steps."""
