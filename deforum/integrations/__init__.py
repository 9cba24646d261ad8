"""The outer ring.

hosts (webui, api), back-ends (diffusers, wan), post-processing (post), features, the composition root (services).
"""

__all__ = ["api", "diffusers", "features", "post", "services", "wan", "webui"]
