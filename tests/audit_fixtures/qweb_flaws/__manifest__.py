{"name": "qweb_flaws", "depends": ["portal"], "data": ["views/templates.xml"]}
