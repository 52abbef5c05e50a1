"""Page presenters: the sections, sentences and tables of each family of pages, so that the
notebooks stay thin. ``case_study`` (what each institution records for one case study),
``recording_practices``, ``territorial``, ``unrecorded_victims`` (multiple systems estimates)
and ``audit`` (the data justice audit). They may use every other room; only notebooks and the
command line use them."""
