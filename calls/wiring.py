"""The call's outside parts as `[call]` configures them: the issuer, the channel, the ICE servers."""

from __future__ import annotations

from calls.channels import EmailChannel, HttpSmsGateway, MemoryGateway
from calls.issuer import HttpsIssuer, LocalIssuer
from calls.room import Services

# The local gateway of this process: the demo's phone page reads it (backoffice.call_pages).
LOCAL_PHONE = MemoryGateway()


def services_for(app) -> Services:
    st = app.settings.call
    if st.issuer is None:
        issuer = LocalIssuer()
    else:
        issuer = HttpsIssuer(st.issuer.url, st.issuer.cert_file, st.issuer.key_file, ca_file=st.issuer.ca_file)
    if st.channel == "email":
        gateway = EmailChannel(app.settings.smtp)
    elif st.sms_gateway is None:
        gateway = LOCAL_PHONE
    else:
        g = st.sms_gateway
        gateway = HttpSmsGateway(g.url, token_env=g.token_env, sender=g.sender, ca_file=g.ca_file)
    return Services(app=app, issuer=issuer, gateway=gateway, channel=st.channel,
                    ice_servers=[s.for_browser() for s in st.ice_servers])
