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


class Callback(StrEnum):
    ROUTER_DETAILS = "router_details_view"
    PEER_DETAILS = "peer_details_view"
