{"name": "qweb_clean", "depends": ["portal"], "data": ["views/templates.xml"]}
