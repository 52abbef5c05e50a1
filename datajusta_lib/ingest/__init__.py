"""Where data enter: institutional exports are read (``readers``) as their codebook describes
(``codebooks``), mapped to the canonical record (``harmonise``), identifiers replaced by keyed
pseudonyms (``pseudonymise``) and checked against the contracts; ``loading`` caches the result
and keeps every rejected row with its reason. ``published`` reads the real published figures.
Direct identifiers never leave this room."""
