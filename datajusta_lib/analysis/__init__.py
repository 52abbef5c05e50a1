"""Figures computed from canonical records: counts, funnels and shares (``counts``), the charts
drawn from gated counts (``charts``) and what a notebook shows (``display``: figures with their
sources, gated tables, banners)."""
