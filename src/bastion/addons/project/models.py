"""Projects and tasks, shared with customers through the portal.

>>> project = env["project.project"].create({"name": "Website", "partner_id": acme.id,
...     "privacy_visibility": "portal"})                       # doctest: +SKIP
>>> env["project.collaborator"].create({"project_id": project.id,
...     "partner_id": portal_user.partner_id.id})             # doctest: +SKIP

``privacy_visibility`` decides who sees a project and its tasks: ``followers``
(invited internal users only), ``employees`` (every internal user) or ``portal``
(every internal user, and the customers who follow it or collaborate on it).
"""

from __future__ import annotations

from bastion.orm import Model, fields
from bastion.orm.defaults import current_company


class ProjectProject(Model):
    _name = "project.project"
    _inherit = ["mail.thread"]
    _description = "Project"
    _order = "name, id"

    name = fields.Char(required=True, index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    user_id = fields.Many2one("res.users", string="Project Manager", index=True)
    company_id = fields.Many2one("res.company", index=True, default=current_company)
    privacy_visibility = fields.Selection(
        [
            ("followers", "Invited internal users"),
            ("employees", "All internal users"),
            ("portal", "Invited portal users and all internal users"),
        ],
        string="Visibility",
        default="portal",
        required=True,
        index=True,
    )
    description = fields.Html()
    active = fields.Boolean(default=True)
    task_ids = fields.One2many("project.task", "project_id", string="Tasks")
    collaborator_ids = fields.One2many(
        "project.collaborator", "project_id", string="Portal Collaborators"
    )


class ProjectCollaborator(Model):
    _name = "project.collaborator"
    _description = "Project Collaborator"
    _order = "project_id, id"
    _rec_name = "partner_id"

    project_id = fields.Many2one(
        "project.project", string="Project", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(
        "res.partner", string="Collaborator", required=True, ondelete="cascade", index=True
    )


class ProjectTask(Model):
    _name = "project.task"
    _inherit = ["mail.thread"]
    _description = "Task"
    _order = "priority desc, sequence, id"

    name = fields.Char(string="Title", required=True, index=True)
    project_id = fields.Many2one("project.project", string="Project", index=True)
    partner_id = fields.Many2one("res.partner", string="Customer", index=True)
    user_ids = fields.Many2many(
        "res.users", "project_task_user_rel", "task_id", "user_id", string="Assignees"
    )
    company_id = fields.Many2one("res.company", index=True, default=current_company)
    stage = fields.Selection(
        [
            ("todo", "To Do"),
            ("in_progress", "In Progress"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        default="todo",
        required=True,
        index=True,
    )
    priority = fields.Selection([("0", "Normal"), ("1", "Important")], default="0")
    date_deadline = fields.Date(string="Deadline")
    description = fields.Html(help="Shown to the customer on the portal.")
    planned_hours = fields.Float(string="Allocated Hours", groups="project.group_project_user")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
