import pytest

from generation.textrules import forbidden_reason


@pytest.mark.parametrize(
    "text",
    [
        "Listen at www.nova.com", "https://nova.fm", "novamusic.com", "Follow @nova_official", "nova@label.com",
        "Only $9.99", "9,99 €", "Now on Spotify", "iTunes Exclusive", "Apple Music", "Limited Edition",
        "EXCLUSIVE", "Stream it on TIDAL", "New Single", "brand new album", "Out Now", "Coming Soon", "Pre-order today",
    ],
)
def test_store_rejected_text_is_caught(text):
    assert forbidden_reason(text)


@pytest.mark.parametrize(
    "text",
    [
        "NOVA", "STILL STANDING", "New York Nights", "The New Sound of Old", "Beyoncé", "Sigur Rós", "坂本龍一",
        "NOVA & Layla Moore", "feat. DJ Kilo", "AC/DC", "Mr. Brightside", "99 Problems", "Track 9", "R.E.M.",
        "Tidal Waves", "Exclusively Yours", "Pandora's Box",
    ],
)
def test_ordinary_release_text_passes(text):
    assert forbidden_reason(text) is None


def test_generate_refuses_it_with_a_422_naming_the_field(client):
    response = client.post("/api/v1/cover/generate",
                           {"genre": "pop", "text_artist": "NOVA", "text_album": "Out Now on Spotify"}, format="json")
    assert response.status_code == 422
    assert "text_album" in response.json()["data"]["errors"]
