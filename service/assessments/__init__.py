"""Rating-scale assessments and the suicide-risk alerts they raise."""
