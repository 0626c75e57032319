"""The main job, :func:`driftcore.check`, and its parts (the command line and
:mod:`driftcore.dask` only orchestrate these).

- :mod:`~driftcore.job.check`: :func:`check`, :class:`CheckReport`, and the same job
  over :class:`~driftcore.job.settings.Settings` (``run_check``, ``run_profile``).
- :mod:`~driftcore.job.settings`: every option, its default and validation.
- :mod:`~driftcore.job.read`, :mod:`~driftcore.job.read_csv`: inputs in record batches.
- :mod:`~driftcore.job.plan`: which columns are compared, and as what kind.
- :mod:`~driftcore.job.passes`: the passes over the data (:mod:`~driftcore.job.dask_passes`
  on a Dask cluster).
- :mod:`~driftcore.job.leak`, :mod:`~driftcore.job.rowhash`: the leakage states
  (:class:`~driftcore.job.leak.TextLeak`, :class:`~driftcore.job.leak.ExactRows`,
  :class:`~driftcore.job.rowhash.RowHashes`); :mod:`~driftcore.job.mmd`: the MMD test.
- :mod:`~driftcore.job.document`: the report document and the verdict;
  :mod:`~driftcore.job.report_json`, :mod:`~driftcore.job.report_html`,
  :mod:`~driftcore.job.report_text` render it; :mod:`~driftcore.job.output` writes files
  all or nothing.
- :mod:`~driftcore.job.profile_file`: the ``.dcp`` file of a summarized side.
"""
