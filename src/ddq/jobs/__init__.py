"""Answering a questionnaire file as a job, above the stores and the answer layer: the
resumable job (:mod:`.job`), fitting drafts to the form's answer places (:mod:`.fit`), the
answered copy (:mod:`.export`) and the review report (:mod:`.report`). Files are read and
written only through the questionnaire format layer (:mod:`ddq.questionnaire.files`)."""
