"""Example custom node packages, and what a third-party node package looks like.

Third-party node types are found through the ``outwire.nodes`` entry point
group (see ``runtime.registry``); ``contrib/mask_phone`` is a complete
example that the tests install the same way a real package would be.
"""
