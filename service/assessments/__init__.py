"""Rating-scale assessments and the suicide-risk alerts they raise (issue 4)."""
