{"name": "code_clean", "depends": ["portal"], "data": []}
