"""Azure Blob Storage (``az://container/blob``) on azure-storage-blob's aio client.

The modules:

* ``options``: how to reach an account (``AzureOptions``) and where it comes from (the az cli environment or a
  ``type = "azure"`` remote in cloudpane's config). No SDK import: the hub and the CLI load it for free.
* ``errors``: the one place Azure failures become the ``tui.errors`` tree, with secrets scrubbed.
* ``remote``: ``AzureRemote``, one account with one shared aiohttp transport; containers.
* ``store``: ``AzureStore``, one container (the ``Store`` protocol).
* ``writer``: ``AzureWriter``, block uploads (Put Block + Put Block List).

Importing this package loads nothing of the SDK; ``remote``, ``store`` and ``writer`` do.
"""

from tui.storage.azure.options import AzureOptions, azure_options

__all__ = ["AzureOptions", "azure_options"]
