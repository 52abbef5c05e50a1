"""Privacy-preserving record linkage across institutions and victims' paths (docs/privacy.md).

- :mod:`.encode`: what an institution runs on its own export (keyed hashes, Bloom filters);
- :mod:`.link`: probabilistic linkage of encoded lists with splink (DuckDB by default);
- :mod:`.cache`: one linkage per case study, reused by every page while its inputs stand;
- :mod:`.quality`: precision, recall and F1 against the synthetic truth, and the cost of
  linkage errors for multiple systems estimation;
- :mod:`.paths`: the sequence of institutions each linked victim went through.
"""

from .encode import encode_export, encode_table, resolve_linkage_key
from .settings import linkage_settings

__all__ = ["encode_export", "encode_table", "linkage_settings", "resolve_linkage_key"]
