"""Signing record versions (one or a batch) inside a continuous signing session, checking a signature, and
superseding on amendment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from config.settings import Settings
from service.audit import service as audit
from service.auth.passwords import Passwords
from service.auth.principal import Principal
from service.auth.service import check_throttle
from service.core.errors import Conflict, NotFound, Unprocessable
from service.models.auth import LoginAttempt
from service.models.signatures import Signature, SignatureStatus
from service.models.users import User
from service.signatures import repository, signing_session, subjects
from service.signatures.schemas import SignaturePublic, SignBatch, SignIn, SignItem

ENTITY = "e_signature"


class SignRefused(Unprocessable):
    """The signer's components were refused; the caller commits the attempt and its audit row before refusing."""


class WrongPassword(SignRefused):
    def __init__(self) -> None:
        super().__init__("password", "the password does not match: nothing was signed", code="wrong_password")


class WrongUsername(SignRefused):
    def __init__(self) -> None:
        super().__init__("username", "this is not the username you signed in with: nothing was signed",
                         code="wrong_username")


class UsernameRequired(SignRefused):
    def __init__(self) -> None:
        super().__init__(
            "username", "the first signing since you signed in needs your username as well as your password "
            "(later signings in this sign-in session need only the password): nothing was signed",
            code="username_required")


def _subject(name: str) -> subjects.Subject:
    found = subjects.SUBJECTS.get(name)
    if found is None:
        raise Unprocessable("subject", f"'{name}' cannot be signed; signable: {', '.join(sorted(subjects.SUBJECTS))}")
    return found


def _record(session: Session, who: Principal, body: SignItem) -> tuple[subjects.Subject, Any]:
    subject = _subject(body.subject)
    if body.meaning.value not in subject.meanings:
        allowed = ", ".join(sorted(subject.meanings))
        raise Unprocessable("meaning", f"a {subject.name} is signed as {allowed}, not '{body.meaning.value}'")
    row = subject.load(session, who.clinic_id, body.subject_id)
    if row is None:
        raise NotFound(f"{subject.name} {body.subject_id} not found")
    return subject, row


def _refuse(session: Session, who: Principal, now: datetime, error: SignRefused, reason: str) -> SignRefused:
    audit.record(session, who.actor, at=now, action="sign_refused", entity=ENTITY, new={"reason": reason})
    signing_session.close(session, who, now, reason)
    return error


def _identify(session: Session, settings: Settings, passwords: Passwords, who: Principal, username: str | None,
              password: str, now: datetime) -> tuple[User, str]:
    """Check the components (21 CFR 11.200(a)): username and password at the first signing of the sign-in session,
    the password alone after that. Returns the signer and the components used.

    Failures count towards the account's login lockout, so a borrowed session cannot guess passwords, and end
    the signing session, so the next attempt needs both components again.
    """
    check_throttle(session, settings, who.username, now)
    already_open = signing_session.is_open(session, who)
    if username is None and not already_open:
        raise _refuse(session, who, now, UsernameRequired(), "username required at the first signing")
    user = session.get(User, who.user_id)
    right_name = username is None or username == who.username
    ok = (user is not None and user.active and right_name and passwords.verify(user.password_hash, password))
    session.add(LoginAttempt(username=who.username, succeeded=ok, at=now, client=who.client))
    if not ok or user is None:
        if not right_name:
            raise _refuse(session, who, now, WrongUsername(), "wrong username")
        raise _refuse(session, who, now, WrongPassword(), "wrong password")
    if username is not None and not already_open:
        signing_session.open_(session, who, now)
    return user, "username+password" if username is not None else "password"


def _sign_one(session: Session, who: Principal, user: User, components: str, item: SignItem,
              subject: subjects.Subject, row: Any, now: datetime) -> Signature:
    version = subjects.version_of(row)
    for sig in repository.for_subject(session, who.clinic_id, subject.name, item.subject_id):
        if (sig.signer_id == who.user_id and sig.meaning == item.meaning.value and sig.subject_version == version
                and sig.status == SignatureStatus.valid.value):
            raise Conflict(f"you already signed version {version} of this {subject.name} "
                           f"({subject.name} {item.subject_id}) as {sig.meaning}", code="already_signed")
    text = subjects.canonical(row)
    sig = Signature(
        clinic_id=who.clinic_id, patient_id=subjects.patient_of(row), subject=subject.name,
        subject_id=item.subject_id, subject_version=version, meaning=item.meaning.value, signer_id=who.user_id,
        printed_name=user.display_name, signed_at=now, record_sha256=subjects.sha256(text), record_json=text,
    )
    session.add(sig)
    session.flush()
    audit.record(session, who.actor, at=now, action="sign", entity=ENTITY, entity_id=sig.id,
                 patient_id=sig.patient_id, new={"subject": sig.subject, "subject_id": sig.subject_id,
                                                 "version": version, "meaning": sig.meaning,
                                                 "record_sha256": sig.record_sha256, "components": components,
                                                 "signing_session": who.session_id})
    return sig


def sign(session: Session, who: Principal, settings: Settings, passwords: Passwords, body: SignIn,
         now: datetime) -> Signature:
    """Sign the current version of a record with the printed name of the signer's account."""
    subject, row = _record(session, who, body)
    user, components = _identify(session, settings, passwords, who, body.username, body.password, now)
    return _sign_one(session, who, user, components, body, subject, row, now)


def sign_batch(session: Session, who: Principal, settings: Settings, passwords: Passwords, body: SignBatch,
               now: datetime) -> list[Signature]:
    """Sign several records with one entry of the components, all or none: each record gets its own signature,
    bound to its own version, meaning and hash, and its own audit row."""
    found = [(item, *_record(session, who, item)) for item in body.items]
    user, components = _identify(session, settings, passwords, who, body.username, body.password, now)
    return [_sign_one(session, who, user, components, item, subject, row, now) for item, subject, row in found]


def supersede(session: Session, who: Principal, subject: str, subject_id: int, new_version: int, reason: str,
              now: datetime) -> list[Signature]:
    """An amended record is a new version: signatures on older versions stop standing for it."""
    changed = repository.valid_before(session, who.clinic_id, subject, subject_id, new_version)
    for sig in changed:
        sig.status = SignatureStatus.superseded.value
        sig.superseded_at, sig.superseded_by_version, sig.superseded_reason = now, new_version, reason[:1000]
        session.add(sig)
        audit.record(session, who.actor, at=now, action="supersede", entity=ENTITY, entity_id=sig.id,
                     patient_id=sig.patient_id, old={"status": SignatureStatus.valid.value},
                     new={"status": sig.status, "version": new_version}, reason=reason)
    session.flush()
    return changed


def verify(sig: Signature, row: Any) -> str:
    """valid, superseded, or mismatch: the record no longer hashes to what was signed, with no new version."""
    if sig.status == SignatureStatus.superseded.value:
        return "superseded"
    if row is None or subjects.version_of(row) != sig.subject_version:
        return "mismatch"
    return "valid" if subjects.sha256(subjects.canonical(row)) == sig.record_sha256 else "mismatch"


def public(sig: Signature, row: Any) -> SignaturePublic:
    """The signature as displayed beside its record, with its verification."""
    fields = {name: getattr(sig, name, None) for name in SignaturePublic.model_fields if name != "verified"}
    return SignaturePublic(**fields, verified=verify(sig, row))


def of_record(session: Session, clinic_id: int, subject: str, row: Any) -> list[SignaturePublic]:
    """Every signature on one record, each verified against the record as it is now."""
    return [public(s, row) for s in repository.for_subject(session, clinic_id, subject, row.id)]


def listing(session: Session, who: Principal, subject: str, subject_id: int) -> list[SignaturePublic]:
    """Signatures on one record of the caller's clinic (404 if the record is not theirs)."""
    kind = _subject(subject)
    row = kind.load(session, who.clinic_id, subject_id)
    if row is None:
        raise NotFound(f"{subject} {subject_id} not found")
    return of_record(session, who.clinic_id, subject, row)
