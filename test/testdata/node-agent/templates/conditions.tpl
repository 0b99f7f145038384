{# Every operator and branch kind the engine supports. #}
trigger={{ trigger }} path={{ path }}
{% if trigger == "create" %}created{% elif trigger == "copy" %}copied{% else %}started{% endif %}
{% if not container.privileged == "true" and container.ephemeral != "true" %}unprivileged-persistent{% endif %}
{% if config["limits.cpu"] or config_get("limits.memory", "") %}limited{% else %}unlimited{% endif %}
{% if "eth0" in devices and "eth9" not in devices %}has-eth0{% endif %}
{% if (1 < 2) && !(3 >= 4) || false %}arith-ok{% endif %}
{{ missing.value|default:"fallback" }} {{ instance.name|upper }} {{ instance.architecture|capfirst }}
{%- for name, dev in devices %}
  {{ forloop.Counter }}. {{ name }}={{ dev.type }}{% if forloop.Last %} (last){% endif %}
{%- endfor %}
{% for p in properties %}{{ p }}{% empty %}no properties{% endfor %}
{% autoescape off %}<raw & "quoted">{% endautoescape %}
