"""Every action_id, block_id and callback_id in one place."""
from enum import StrEnum


class Action(StrEnum):
    LIST_PAGE = "list_page"
    LIST_SHOW = "list_show"
    LIST_REFRESH = "list_refresh"
    ROUTER_DETAILS = "router_details"
    PEER_DETAILS = "peer_details"
    ADD_SESSION = "add_session"
    # session detail buttons (wired by the router-automation handlers)
    CONFIGURE = "session_configure"
    CONFIG_MANAGER = "session_config_manager"
    ADMIN_UP = "session_admin_up"
    ADMIN_DOWN = "session_admin_down"
    REFRESH = "session_refresh"
    DELETE = "session_delete"
    EDIT = "session_edit"
    EMAIL = "session_email"
    BULK_SELECT = "bulk_select"
    BULK_ACTION = "bulk_action"
    # router automation (handlers/router_actions.py)
    CONFIG_COMMANDS = "config_commands"  # the editable commands input of the Config Manager modal
    # create-session wizard (handlers/wizard.py)
    WIZARD_PREV = "wizard_prev"
    WIZARD_ROUTER = "wizard_router"
    WIZARD_PEERINGDB = "wizard_peeringdb"
    WIZARD_LOCAL_PEER = "wizard_local_peer"
    WIZARD_AS_SET_VALIDATE = "wizard_as_set_validate"
    WIZARD_AS_SET_IMPORT = "wizard_as_set_import"
    WIZARD_EXCHANGE = "wizard_exchange"  # static select, or type-ahead above 100 exchanges
    WIZARD_PEER_GROUP = "wizard_peer_group"
    WIZARD_PEERINGDB_IP = "wizard_peeringdb_ip"  # the chosen network's addresses at the exchange
    # discovery and drift (handlers/adoption.py)
    DISCOVER_ALL = "discover_all"  # App Home
    DISCOVER_ROUTER = "discover_router"  # router details modal
    DISCOVER_IMPORT = "discover_import"
    DISCOVER_CHOOSE = "discover_choose"
    DRIFT_ADOPT = "drift_adopt"
    DRIFT_FIX = "drift_fix"
    DRIFT_IGNORE = "drift_ignore"
    # change requests (handlers/approvals.py)
    CHANGE_APPROVE = "change_approve"
    CHANGE_REJECT = "change_reject"
    CHANGE_CANCEL = "change_cancel"
    # email modal (handlers/email.py); the subject/body/recipients block ids carry the template too
    EMAIL_TEMPLATE = "email_template"
    EMAIL_RECIPIENTS = "email_recipients"
    EMAIL_SUBJECT = "email_subject"
    EMAIL_BODY = "email_body"
    EMAIL_AGAIN = "session_email_again"  # Send again: a failed or unknown Send (value: its email_send id)


class Callback(StrEnum):
    ROUTER_DETAILS = "router_details_view"
    PEER_DETAILS = "peer_details_view"
    CONFIG_MANAGER = "config_manager_view"
    WIZARD = "session_wizard"
    CHANGE_REJECT = "change_reject_view"
    EMAIL = "session_email_view"
    DISCOVER_IMPORT = "discover_import_view"
