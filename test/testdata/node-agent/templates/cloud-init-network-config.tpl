{% if config_get("user.network-config", "") == "" %}version: 1
config:
  - type: physical
    name: {% if instance.name|length > 10 %}eth0{% else %}{{ "ETH0"|lower }}{% endif %}
    subnets:
      - type: {{ config_get("user.network-mode", "dhcp") }}
        control: auto{% else %}{{ config_get("user.network-config", "") }}{% endif %}
