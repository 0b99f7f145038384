{{ config_get("user.user-data", properties.default) }}
