"""What every questionnaire format detects the same way: questions and section numbers
(:mod:`.questions`), the yes/no vocabulary and choice columns (:mod:`.choices`), the header
vocabulary (:mod:`.headers`) and question keys (:mod:`.keys`)."""
