"""Two factors for every account (protection.md R11, attack test 8)."""

import time

import pytest
from django.test import Client

from mawa.accounts import services
from mawa.accounts.models import RecoveryCode, TOTPDevice
from mawa.accounts.roles import Role

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def password_step(client, username):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD})


def test_password_alone_does_not_sign_in(users):
    client = Client()
    response = password_step(client, "auditor")
    assert response["Location"].endswith("/accounts/login/enrol/")
    assert client.get("/ledger/").status_code == 302  # still anonymous


def test_first_sign_in_enrols_with_a_qr_code_in_the_page(users):
    client = Client()
    password_step(client, "auditor")
    page = client.get("/accounts/login/enrol/")
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code is drawn in the page, no outside service
    secret = bytes.fromhex(client.session["mfa_enrol_secret"])
    wrong = client.post("/accounts/login/enrol/", {"code": "000000"})
    assert wrong.status_code == 200 and not TOTPDevice.objects.exists()
    ok = client.post("/accounts/login/enrol/",
                     {"code": services.totp_code_at(secret, time.time())})
    assert ok.status_code == 302 and "/recovery-codes/" in ok["Location"]
    codes_page = client.get(ok["Location"])
    assert codes_page.content.count(b"<li class=\"col\">") == services.RECOVERY_CODE_COUNT
    assert client.get("/ledger/").status_code == 200
    # shown once only
    assert client.get("/accounts/recovery-codes/").status_code == 302


def test_secret_is_stored_encrypted(users):
    user = users[Role.AUDITOR]
    secret = services.totp_secret_new()
    services.totp_enrol_confirm(user=user, secret=secret,
                                code=services.totp_code_at(secret, time.time()))
    stored = TOTPDevice.objects.get(user=user).secret_encrypted
    assert secret.hex() not in stored and stored.startswith("gcm1:")


def test_a_code_cannot_be_replayed(users):
    user = users[Role.AUDITOR]
    secret = services.totp_secret_new()
    now = time.time()
    services.totp_enrol_confirm(user=user, secret=secret,
                                code=services.totp_code_at(secret, now))
    later = services.totp_code_at(secret, now + 30)
    assert services.totp_verify(user=user, code=later)
    assert not services.totp_verify(user=user, code=later)  # same code again: replay
    # and an older step is refused too
    assert not services.totp_verify(user=user, code=services.totp_code_at(secret, now))


def test_arabic_indic_digits_are_accepted_in_codes(users):
    user = users[Role.AUDITOR]
    secret = services.totp_secret_new()
    now = time.time()
    services.totp_enrol_confirm(user=user, secret=secret,
                                code=services.totp_code_at(secret, now))
    code = services.totp_code_at(secret, now + 30)
    arabic = code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert services.totp_verify(user=user, code=arabic)


def test_recovery_codes_are_hashed_and_single_use(users):
    user = users[Role.AUDITOR]
    codes = services.recovery_codes_generate(user=user)
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert not any(c in stored or c.replace("-", "") in stored for c in codes)
    assert services.recovery_code_use(user=user, code=codes[0].lower())
    assert not services.recovery_code_use(user=user, code=codes[0])
    assert services.recovery_code_use(user=user, code=codes[1])


def test_sign_in_with_a_recovery_code(users):
    user = users[Role.AUDITOR]
    secret = services.totp_secret_new()
    codes = services.totp_enrol_confirm(user=user, secret=secret,
                                        code=services.totp_code_at(secret, time.time()))
    client = Client()
    assert password_step(client, "auditor")["Location"].endswith("/login/code/")
    response = client.post("/accounts/login/code/", {"code": codes[3]})
    assert response.status_code == 302
    assert client.get("/ledger/").status_code == 200


def test_pending_second_step_expires(users):
    import time_machine as tm

    client = Client()
    password_step(client, "auditor")
    with tm.travel(time.time() + 600, tick=False):
        response = client.get("/accounts/login/enrol/")
    assert response.status_code == 302 and response["Location"].endswith("/accounts/login/")


def test_step_up_requires_a_recent_confirmation(users, signed_in_client):
    import time_machine as tm
    from django.http import HttpResponse
    from django.test import RequestFactory

    from mawa.accounts.views import step_up_required

    client = signed_in_client(users[Role.AUDITOR])

    @step_up_required
    def sensitive(request):
        return HttpResponse("done")

    request = RequestFactory().get("/export/")
    request.user = users[Role.AUDITOR]
    request.session = client.session
    assert sensitive(request).status_code == 200
    with tm.travel(time.time() + 3600, tick=False):
        response = sensitive(request)
    assert response.status_code == 302 and "/accounts/confirm/" in response["Location"]
