"""What every other room stands on: where things live (``paths``), the canonical vocabulary
(``canon``), one bilingual text lookup over ``data/i18n/`` (``i18n``), the pandera contracts
(``contracts``) and the house chart style (``style``). Imports nothing else of the library."""
