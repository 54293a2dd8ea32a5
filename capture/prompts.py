"""Every text the kit shows, in Bahasa Indonesia (the default) and English, in one place.

A prompt is up to four display lines of at most :data:`WIDTH` characters before its
placeholders are filled.  A value that makes a line longer (a name, a finger's name) is
laid out by :mod:`capture.layout`: wrapped, or shortened by its written rules, never cut.
A resident's or officer's name (``{name}``) stands on a line of its own, so it is never
squeezed beside other words.  Tests hold every entry to these rules, with the longest
real values filled in.
"""

from __future__ import annotations

from vocabulary.language import Language

#: Characters per display line the prompts are written for (SSD1306 128 px, 6 px font).
WIDTH = 21


#: What a prompt's key is followed by for its wording to a companion who answers for the
#: person (`capture.base.Step.to_person`): "face" to the person, "face.companion" to them.
COMPANION_WORDING = ".companion"

#: key -> (Bahasa Indonesia, English); lines separated by "\n".
CATALOGUE: dict[str, tuple[str, str]] = {
    "boot": ("Jemput menyala...", "Jemput starting..."),
    "self_test": ("Memeriksa perangkat", "Checking devices"),
    "self_test_fault": (
        "Rusak: {device}\nHubungi teknisi\nOK=lanjut",
        "Faulty: {device}\nCall a technician\nOK=continue",
    ),
    "locked": (
        "TERKUNCI\nLetakkan jari petugas\natau OK untuk PIN",
        "LOCKED\nPlace officer finger\nor OK for PIN",
    ),
    "finger_unknown": ("Jari tidak dikenal", "Finger not known"),
    "choose_officer": ("Pilih petugas:", "Choose officer:"),
    "pin": (
        "{name}\nPIN: {entry}\n^v angka OK=lanjut",
        "{name}\nPIN: {entry}\n^v digit OK=next",
    ),
    "pin_wrong": ("PIN salah", "Wrong PIN"),
    "pin_wait": (
        "Terlalu banyak salah:\ntunggu {seconds} dtk",
        "Too many wrong PINs:\nwait {seconds} s",
    ),
    "welcome": ("Selamat datang\n{name}", "Welcome\n{name}"),
    "ready": ("SIAP {battery} kartu:{stock}", "READY {battery} cards:{stock}"),
    "walk_in": ("+ Datang langsung", "+ Walk-in (NIK)"),
    "admin": ("* Menu petugas", "* Officer menu"),
    "all_recorded": ("(semua sudah rekam)", "(all recorded)"),
    "refused_battery": (
        "Baterai lemah {percent}%\nIsi daya dulu\nTidak bisa mulai",
        "Battery low {percent}%\nCharge the kit\nCannot start",
    ),
    "storage_full": (
        "Penyimpanan penuh\nData aman. Kumpulkan\ndata, lalu tekan OK",
        "Storage full\nData is safe. Collect\nrecords, then OK",
    ),
    "refused_storage": (
        "Penyimpanan penuh\nKumpulkan data dulu\nTidak bisa mulai",
        "Storage full\nCollect records first\nCannot start",
    ),
    "nik_entry": (
        "NIK datang langsung:\n{entry}\n^v angka OK=lanjut",
        "Walk-in NIK:\n{entry}\n^v digit OK=next",
    ),
    "nik_bad": ("NIK tidak sah:\n{reason}", "NIK not valid:\n{reason}"),
    "nik_known": ("NIK ada di daftar\nPilih dari daftar", "NIK is on the list\nChoose it there"),
    "nik_recorded": ("NIK sudah direkam\ndi kit ini", "NIK already recorded\non this kit"),
    "confirm_person": (
        "{name}\nNIK {nik}\n{kind} lahir {born}\nOK=mulai BACK=batal",
        "{name}\nNIK {nik}\n{kind} born {born}\nOK=start BACK=back",
    ),
    # -- the notice of processing (storage.record.NOTICE_VERSION 1), read aloud ---------
    "notice.1": (
        "PEMBERITAHUAN 1/4\nKami merekam foto,\nsidik jari, tanda\ntangan dan data diri",
        "NOTICE 1/4\nWe record a photo,\nfingerprints, your\nsignature, details",
    ),
    "notice.2": (
        "UNTUK APA 2/4\nMenerbitkan KTP-el\natau KIA (UU 24/2013\nAdminduk)",
        "WHY 2/4\nTo issue the e-KTP\nor KIA (Law 24/2013,\ncivil registration)",
    ),
    "notice.3": (
        "SIAPA MELIHAT 3/4\nHanya Disdukcapil.\nData dikunci, petugas\ntak bisa membukanya",
        "WHO SEES IT 3/4\nOnly the Dukcapil.\nIt is locked: the\nofficer cannot open",
    ),
    "notice.4": (
        "HAK ANDA 4/4\nLihat & perbaiki di\nkantor Dukcapil\nOK=sudah dibacakan",
        "YOUR RIGHTS 4/4\nSee and correct it\nat the Dukcapil\nOK=it was read",
    ),
    "guardian": ("WALI (dieja):\n{name}", "GUARDIAN (spelled):\n{name}"),
    "guardian.space": ("(spasi)", "(space)"),
    "guardian.delete": ("< hapus huruf", "< delete a letter"),
    "guardian.done": ("= selesai", "= done"),
    "guardian_empty": ("Nama wali kosong", "Guardian name empty"),
    "companion": ("PENDAMPING (dieja):\n{name}", "COMPANION (spelled):\n{name}"),
    "needs": ("KEBUTUHAN KHUSUS:", "SPECIAL NEEDS:"),
    "needs.go": ("Lanjut", "Continue"),
    "needs.disability": ("Disabilitas: {value}", "Disability: {value}"),
    "needs.seated": ("Foto duduk: {value}", "Seated photo: {value}"),
    "needs.companion": ("Pendamping: {value}", "Companion: {value}"),
    "disability_title": ("JENIS DISABILITAS:", "DISABILITY:"),
    "disability.NONE": ("Tidak ada", "None"),
    "disability.FISIK": ("Fisik", "Physical"),
    "disability.NETRA": ("Netra/buta", "Blind"),
    "disability.RUNGU_WICARA": ("Rungu/wicara", "Deaf/speech"),
    "disability.MENTAL_JIWA": ("Mental/jiwa", "Mental"),
    "disability.FISIK_DAN_MENTAL": ("Fisik dan mental", "Physical and mental"),
    "disability.LAINNYA": ("Lainnya", "Other"),
    "not_born": (
        "Tgl lahir {born}\ntidak sebelum hari\nini. OK=kembali",
        "Born {born}: not\nbefore today\nOK=back",
    ),
    "official_needed": (
        "Perlu pejabat desa\nMenu > Pejabat desa",
        "Village official\nneeded: Menu>Official",
    ),
    "purpose": ("KEPERLUAN:", "PURPOSE:"),
    "purpose.BARU": ("Baru (rekam pertama)", "New (first record)"),
    "purpose.HILANG": ("Hilang", "Lost"),
    "purpose.RUSAK": ("Rusak", "Damaged"),
    "purpose.PERUBAHAN_DATA": ("Perubahan data", "Data changed"),
    "kk_entry": (
        "No. KK (domisili):\n{entry}\n^v angka OK=lanjut",
        "KK no. (domicile):\n{entry}\n^v digit OK=next",
    ),
    "kk_bad": ("No. KK tidak sah:\n{reason}", "KK not valid:\n{reason}"),
    # why a keyed NIK or KK number is refused (storage.nik.NikProblem), one line each
    "nik_problem.not_digits": ("Bukan 16 angka 0-9", "Not 16 digits 0-9"),
    "nik_problem.unknown_province": ("Tak ada provinsi {code}", "No province {code}"),
    "nik_problem.no_such_month": ("Tak ada bulan {month}", "No month {month}"),
    "nik_problem.no_such_day": ("Tak ada tanggal {day}-{month}", "No date {day}-{month}"),
    "nik_problem.serial_zero": ("No. urut 0000 salah", "Serial 0000 not used"),
    "nik_problem.serial_out_of_range": ("No. urut salah", "Serial out of range"),
    "nik_problem.sex_differs": ("Jenis kelamin beda", "Sex differs"),
    "nik_problem.birth_date_differs": ("Tanggal lahir beda", "Birth date differs"),
    "signature_exception": ("Tidak bisa ttd, krn:", "Cannot sign because:"),
    "sigexc.CANNOT_WRITE": ("Tidak dapat menulis", "Cannot write"),
    "sigexc.DISABILITY": ("Disabilitas", "Disability"),
    "sigexc.INJURED_HAND": ("Tangan cedera", "Injured hand"),
    "correction": ("KOREKSI DATA:", "CORRECT DATA:"),
    "field.RELIGION": ("Agama", "Religion"),
    "field.MARITAL_STATUS": ("Status perkawinan", "Marital status"),
    "field.OCCUPATION": ("Pekerjaan", "Occupation"),
    "field.BLOOD_TYPE": ("Golongan darah", "Blood type"),
    "field.NAME": ("Nama salah", "Name wrong"),
    "field.BIRTH_PLACE": ("Tempat lahir salah", "Birth place wrong"),
    "field.ADDRESS": ("Alamat salah", "Address wrong"),
    "correction_value": ("{field} baru:", "New {field}:"),
    "flag_reason": ("Alasan:", "Reason:"),
    "reason.MISSPELLED": ("Salah ejaan", "Misspelled"),
    "reason.DIFFERS_FROM_KK": ("Berbeda dengan KK", "Differs from the KK"),
    "reason.INCOMPLETE": ("Tidak lengkap", "Incomplete"),
    "corrected": ("Dikoreksi:\n{field}\n{new}", "Corrected:\n{field}\n{new}"),
    "flagged": (
        "Ditandai:\n{field}\nDikoreksi di kantor",
        "Flagged:\n{field}\nThe office corrects",
    ),
    "face": (
        "FOTO WAJAH\nMenghadap kamera\nOK=potret",
        "FACE PHOTO\nFace the camera\nOK=take photo",
    ),
    "face.companion": (
        "FOTO WAJAH\nPendamping: bantu\nhadap ke kamera\nOK=potret",
        "FACE PHOTO\nCompanion: help them\nface the camera\nOK=take photo",
    ),
    "face_busy": ("Memotret...", "Taking photo..."),
    "face_retry": ("Foto {attempt}/{tries} OK=ulang", "Photo {attempt}/{tries} OK=retry"),
    "face_forced": (
        "Foto terbaik disimpan\n{why}\nOK=lanjut BACK=ulang",
        "Best photo kept\n{why}\nOK=next BACK=retake",
    ),
    "face_ok": ("Foto diambil\nOK=lanjut BACK=ulang", "Photo taken\nOK=next BACK=retake"),
    "fingers": (
        "SIDIK JARI {index}/{count}\n{finger}\nLetakkan jari\nv=pengecualian",
        "FINGER {index}/{count}\n{finger}\nPlace the finger\nv=exception",
    ),
    "fingers.companion": (
        "SIDIK JARI {index}/{count}\n{finger}\nPendamping: tempelkan\nv=pengecualian",
        "FINGER {index}/{count}\n{finger}\nCompanion: place it\nv=exception",
    ),
    "fingers_checking": (
        "MEMERIKSA JARI\n{index}/{count} {finger}\nAngkat jari",
        "CHECKING FINGER\n{index}/{count} {finger}\nLift the finger",
    ),
    "fingers_checking.companion": (
        "MEMERIKSA JARI\n{index}/{count} {finger}\nPendamping: angkat",
        "CHECKING FINGER\n{index}/{count} {finger}\nCompanion: lift it",
    ),
    "finger_poor": (
        "{finger}\nKurang jelas {attempt}/{tries}\nOK=ulang v=kecualikan",
        "{finger}\nPoor image {attempt}/{tries}\nOK=retry v=exception",
    ),
    "finger_retry": (
        "{finger} {attempt}/{tries}\nOK=ulang v=kecualikan",
        "{finger} {attempt}/{tries}\nOK=retry v=exception",
    ),
    "duplicate_officer": (
        "JARI PETUGAS!\nPetugas tidak boleh\ndirekam sbg pemohon\nRekaman dibatalkan",
        "OFFICER'S FINGER!\nAn officer cannot\nenrol as applicant\nEnrolment dropped",
    ),
    "duplicate_repeated": (
        "Jari sama dengan\n{other}\nPakai jari yang benar\nOK=ulang",
        "Same finger as\n{other}\nUse the right finger\nOK=retry",
    ),
    "duplicate_enrolled": (
        "Sudah direkam sebagai\n{name}\n#{seq} OK=supervisor\nBACK=batal",
        "Already enrolled as\n{name}\n#{seq} OK=supervisor\nBACK=cancel",
    ),
    "finger_none": (
        "{finger}\nJari tidak terdeteksi\nOK=ulang v=kecualikan",
        "{finger}\nNo finger detected\nOK=retry v=exception",
    ),
    "finger_give_up": (
        "{finger}\nGagal {tries}x\nCatat pengecualian\nOK=pilih",
        "{finger}\nFailed {tries}x\nRecord an exception\nOK=choose",
    ),
    "exception_title": ("Pengecualian {finger}:", "Exception {finger}:"),
    "exception.missing": ("Tidak ada jari", "Missing"),
    "exception.amputated": ("Diamputasi", "Amputated"),
    "exception.bandaged": ("Diperban", "Bandaged"),
    "exception.unreadable": ("Tidak terbaca", "Unreadable"),
    "finger.1": ("Jempol kanan", "Right thumb"),
    "finger.2": ("Telunjuk kanan", "Right index"),
    "finger.3": ("Jari tengah kanan", "Right middle"),
    "finger.4": ("Jari manis kanan", "Right ring"),
    "finger.5": ("Kelingking kanan", "Right little"),
    "finger.6": ("Jempol kiri", "Left thumb"),
    "finger.7": ("Telunjuk kiri", "Left index"),
    "finger.8": ("Jari tengah kiri", "Left middle"),
    "finger.9": ("Jari manis kiri", "Left ring"),
    "finger.10": ("Kelingking kiri", "Left little"),
    "approval": (
        "PERLU SUPERVISOR\n{why}\nJari supervisor\natau OK=PIN",
        "SUPERVISOR NEEDED\n{why}\nSupervisor finger\nor OK=PIN",
    ),
    "approval.all_fingers": ("Semua jari dikecual.", "All fingers excepted"),
    "approval.duplicate": ("Sama dengan #{seq}", "Same person as #{seq}"),
    "approval.void": ("Batalkan rekaman #{seq}", "Void record #{seq}"),
    "approval.reprint": ("Cetak ulang #{seq}", "Reprint #{seq}"),
    "approval.no_signature": ("Tanpa tanda tangan", "No signature"),
    "official_approval": (
        "PERLU PEJABAT DESA\nKoreksi data\nJari kades/kasi\natau OK=PIN",
        "OFFICIAL NEEDED\nData correction\nOfficial's finger\nor OK=PIN",
    ),
    "not_supervisor": ("Bukan supervisor", "Not a supervisor"),
    "not_official": ("Bukan pejabat desa", "Not the official"),
    "official_login": (
        "PEJABAT DESA HADIR\nJari kades/kasi\nBACK=kembali\natau OK=PIN",
        "VILLAGE OFFICIAL IN\nOfficial's finger\nBACK=back\nor OK=PIN",
    ),
    "official_in": ("Pejabat desa hadir:\n{name}", "Village official in:\n{name}"),
    "signature": (
        "TANDA TANGAN\nTanda tangan di pad\nlalu angkat pena\nv=tidak bisa ttd",
        "SIGNATURE\nSign on the pad\nthen lift the pen\nv=cannot sign",
    ),
    "signature.companion": (
        "TANDA TANGAN\nPendamping: bantu ttd\ndi pad, angkat pena\nv=tidak bisa ttd",
        "SIGNATURE\nCompanion: help sign\non the pad, lift pen\nv=cannot sign",
    ),
    "signature_none": (
        "Belum ada tanda\ntangan. OK=ulang\nv=tidak bisa ttd",
        "No signature yet\nOK=retry\nv=cannot sign",
    ),
    "signature_ok": (
        "Tanda tangan diambil\nOK=lanjut BACK=ulang",
        "Signature taken\nOK=next BACK=redo",
    ),
    "review": (
        "{name}\nWajah:{face} Jari:{fingers}\nTtd:{signature} Cetak:{card}\nOK=simpan v=koreksi",
        "{name}\nFace:{face} Prints:{fingers}\nSign:{signature} Card:{card}\nOK=save v=correct",
    ),
    "review.companion": (
        "PENDAMPING: data\nsudah dibacakan dan\nbenar?\nOK=simpan BACK=tidak",
        "COMPANION: was it\nread out, and is it\nright?\nOK=save BACK=no",
    ),
    "yes": ("ya", "yes"),
    "no": ("tidak", "no"),
    "sealing": ("Menyimpan...\nJangan matikan", "Saving...\nDo not switch off"),
    "seal_failed": (
        "GAGAL MENYIMPAN\n{reason}\nData masih di jurnal\nOK=coba lagi",
        "SAVE FAILED\n{reason}\nData kept in journal\nOK=try again",
    ),
    "printing": ("Mencetak kartu...", "Printing card..."),
    "print_failed": (
        "Cetak gagal:\n{reason}\nKartu rusak dicatat\nOK=cetak slip",
        "Print failed:\n{reason}\nCard marked spoiled\nOK=print slip",
    ),
    "slip_printing": ("Mencetak slip...", "Printing slip..."),
    "slip_failed": (
        "Slip gagal:\n{reason}\nCatat no. rekaman\n#{seq}  OK=lanjut",
        "Slip failed:\n{reason}\nWrite down record\n#{seq}  OK=next",
    ),
    "done": (
        "TERSIMPAN #{seq}\n{name}\n{outcome}\nOK=berikutnya",
        "SAVED #{seq}\n{name}\n{outcome}\nOK=next",
    ),
    "outcome.card": ("Kartu dicetak", "Card printed"),
    "outcome.slip": ("Slip dicetak", "Slip printed"),
    "outcome.none": ("Tanpa cetak", "Nothing printed"),
    "outcome.void": ("Rekaman #{voided} batal", "Record #{voided} void"),
    "print_question": (
        "Kartu #{seq} keluar?\n{serial}\nOK=ya BACK=tidak",
        "Did card #{seq} come\nout of the printer?\n{serial}\nOK=yes BACK=no",
    ),
    "resume": (
        "LANJUTKAN?\n{name}\nOK=lanjut\ntahan BACK=buang",
        "RESUME?\n{name}\nOK=resume\nhold BACK=discard",
    ),
    "confirm_cancel": (
        "BATALKAN perekaman?\nData orang ini hilang\nOK=ya BACK=tidak",
        "CANCEL enrolment?\nThis person's data\nwill be lost.\nOK=yes BACK=no",
    ),
    "confirm_discard": (
        "BUANG rekaman jurnal?\nOK=ya BACK=tidak",
        "DISCARD journal?\nOK=yes BACK=no",
    ),
    "admin.load_cards": ("Muat kartu blangko", "Load blank cards"),
    "admin.void": ("Batalkan rekaman", "Void a record"),
    "admin.official": ("Pejabat desa hadir", "Village official in"),
    "admin.handover": ("Serah terima kartu", "Card handover"),
    "admin.login_fingers": ("Jari login petugas", "Officer login finger"),
    "admin.language": ("Bahasa: Indonesia", "Language: English"),
    "admin.lock": ("Kunci kit", "Lock the kit"),
    "admin.back": ("< Kembali", "< Back"),
    "load_cards": (
        "Jumlah kartu dimuat:\n{entry}\n^v angka OK=simpan",
        "Cards loaded:\n{entry}\n^v digit OK=save",
    ),
    "cards_loaded": ("{count} kartu dimuat\nStok: {stock}", "{count} cards loaded\nStock: {stock}"),
    "cards_too_many": (
        "Hanya {left} blangko\nbernomor seri tersisa\nminta ke Disdukcapil",
        "Only {left} numbered\nblank cards are left\nask the district",
    ),
    # -- the handover of printed cards (capture.handover_steps) ---------------------
    "handover_none": (
        "Belum ada batch kartu\ndari kantor:\njemput-prov office\nsend",
        "No card batch from\nthe office yet:\njemput-prov office\nsend",
    ),
    "handover_batches": ("Batch kartu desa:", "Village card batches:"),
    "handover_cards": ("{village}\nBelum diambil {left}:", "{village}\nNot yet taken {left}:"),
    "handover_all": (
        "{village}\nSemua kartu sudah\ndiambil. BACK=batch",
        "{village}\nEvery card is taken\nBACK=batches",
    ),
    "handover_ack": (
        "Pejabat desa terima\nbatch: tempel jari\natau OK untuk PIN",
        "Official takes the\nbatch: finger on the\nsensor or OK for PIN",
    ),
    "handover_acked": ("Batch diterima oleh\n{name}", "Batch received by\n{name}"),
    "handover_finger": (
        "{name}\nTempel jari warga:\n{finger}",
        "{name}\nResident's finger:\n{finger}",
    ),
    "handover_retry": (
        "Jari tidak cocok\nCoba lagi, sisa {left}",
        "Finger does not match\nTry again, {left} left",
    ),
    "handover_refused": (
        "Jari TIDAK cocok:\nkartu tidak diserah-\nkan. Warga ke kantor\nDisdukcapil + KK",
        "Finger does NOT match\ncard not handed over\nResident goes to the\noffice with the KK",
    ),
    "handover_sign": (
        "{name}\nJari dikecualikan:\ntanda tangan di pad",
        "{name}\nFingers excepted:\nsign on the pad",
    ),
    "handover_signed": (
        "Tanda tangan ada\nOK=serahkan kartu\nBACK=batal",
        "Signature taken\nOK=hand the card\nBACK=cancel",
    ),
    "handover_given": ("Kartu diserahkan:\n{name}", "Card handed over:\n{name}"),
    "void_choose": ("Rekaman dibatalkan:", "Record to void:"),
    "void_none": ("Belum ada rekaman", "No records yet"),
    # -- officers' login fingers, a supervisor's (capture.login_finger_steps) --------------
    "login_fingers_missing": ("Tanpa jari login: {count}", "No login finger: {count}"),
    "login_fingers_reading": ("Membaca sensor...", "Reading the sensor..."),
    "login_fingers": ("JARI LOGIN PETUGAS:", "LOGIN FINGERS:"),
    "login_finger.held": ("ada", "set"),
    "login_finger.none": ("belum", "none"),
    "login_finger_actions": ("{name}", "{name}"),
    "login_finger.again": ("Rekam ulang jari", "Enrol it again"),
    "login_finger.remove": ("Hapus jari login", "Remove login finger"),
    "confirm_remove_login_finger": (
        "HAPUS jari login:\n{name}\nPIN tetap berlaku\nOK=ya BACK=tidak",
        "REMOVE login finger:\n{name}\nThe PIN still works\nOK=yes BACK=no",
    ),
    "login_finger_removed": (
        "Jari login dihapus:\n{name}\nPIN tetap berlaku",
        "Login finger removed\n{name}\nThe PIN still works",
    ),
    "login_finger_first": (
        "JARI LOGIN 1/2\n{name}\n{finger}\nLetakkan jari",
        "LOGIN FINGER 1/2\n{name}\n{finger}\nPlace the finger",
    ),
    "login_finger_second": (
        "JARI LOGIN 2/2\nAngkat, lalu letakkan\njari yang sama lagi",
        "LOGIN FINGER 2/2\nLift it, then place\nthe same finger again",
    ),
    "login_finger_none": (
        "Tidak ada jari\nOK=ulang BACK=batal",
        "No finger detected\nOK=retry BACK=back",
    ),
    "login_finger_poor": (
        "Sidik kurang jelas\nTekan rata\nOK=ulang BACK=batal",
        "Print unclear\nPress flat\nOK=retry BACK=back",
    ),
    "login_finger_refused.resident": (
        "DITOLAK: jari warga\nrekaman #{seq}\nOK=ulang BACK=batal",
        "REFUSED: a resident's\nfinger, record #{seq}\nOK=retry BACK=back",
    ),
    "login_finger_refused.other-officer": (
        "DITOLAK: jari login\n{other}\nOK=ulang BACK=batal",
        "REFUSED: login finger\nof {other}\nOK=retry BACK=back",
    ),
    "login_finger_refused.captures-differ": (
        "Dua sidik berbeda\nPakai jari yang sama\nOK=ulang BACK=batal",
        "The two prints differ\nUse the same finger\nOK=retry BACK=back",
    ),
    "login_finger_kept": (
        "Jari login disimpan:\n{name}\nLogin dengan jari",
        "Login finger kept:\n{name}\nLog in by finger",
    ),
    # -- the safe shutdown, one screen per capture.events.ShutdownReason ---------------
    "shutdown.battery_critical": (
        "Baterai kritis\nData aman\nMematikan...",
        "Battery critical\nData is safe\nShutting down...",
    ),
    "shutdown.power_button": (
        "Dimatikan dengan\ntombol daya\nData aman\nMematikan...",
        "Switched off with\nthe power button\nData is safe\nShutting down...",
    ),
    "walk_in_name": ("(datang langsung)", "(walk-in)"),
    # -- a part that fails: which part, what happened and what to check --------------------
    "device_error": (
        "{device}:\n{problem}\n{check}\nOK=ulang",
        "{device}:\n{problem}\n{check}\nOK=retry",
    ),
    # the parts by the names their drivers give them (hal), as the officer calls them
    "device.unnamed": ("Perangkat", "A part"),
    "device.camera": ("Kamera", "Camera"),
    "device.fingerprint": ("Sensor jari", "Finger sensor"),
    "device.signature-pad": ("Pad tanda tangan", "Signature pad"),
    "device.card-printer": ("Printer kartu", "Card printer"),
    "device.receipt-printer": ("Printer slip", "Slip printer"),
    "device.panel": ("Panel tombol", "Button panel"),
    "device.display": ("Layar", "Display"),
    "device.battery": ("Baterai", "Battery"),
    "device.clock": ("Jam", "Clock"),
    "device.coprocessor": ("Pengatur daya", "Power board"),
    # what went wrong and what to check, one entry per error (capture.faults.FAULTS)
    "fault.device": ("Ada gangguan\nHubungi teknisi", "Not working\nCall a technician"),
    "fault.absent": (
        "Tidak tersambung\nPeriksa kabel & daya",
        "Not connected\nCheck cable & power",
    ),
    "fault.timeout": ("Tidak menjawab\nPeriksa kabel", "No answer\nCheck the cable"),
    "fault.busy": ("Sedang sibuk\nTunggu, lalu ulangi", "Busy\nWait, then retry"),
    "fault.protocol": ("Data tidak terbaca\nPeriksa kabel", "Garbled data\nCheck the cable"),
    "fault.no_finger": ("Tidak ada jari\nLetakkan jari", "No finger\nPlace the finger"),
    "fault.poor_image": ("Sidik kurang jelas\nBersihkan kaca", "Print unclear\nClean the glass"),
    "fault.no_match": ("Jari tidak dikenal\nCoba lagi", "Finger not known\nTry again"),
    "fault.library": (
        "Memori sensor gagal\nHubungi teknisi",
        "Sensor memory failed\nCall a technician",
    ),
    "fault.wrong_password": (
        "Sandi sensor salah\nHubungi teknisi",
        "Wrong sensor password\nCall a technician",
    ),
    "fault.wrong_model": (
        "Model sensor lain\nHubungi teknisi",
        "Other sensor model\nCall a technician",
    ),
    "fault.no_signature": ("Tidak ada goresan\nTulis di pad", "No pen stroke\nSign on the pad"),
    "fault.out_of_cards": (
        "Kartu blangko habis\nIsi kartu blangko",
        "Out of blank cards\nLoad blank cards",
    ),
    "fault.cover_open": ("Tutup terbuka\nTutup, lalu ulangi", "Cover open\nClose it, then retry"),
    "fault.ribbon_out": ("Pita habis\nGanti pita", "Ribbon spent\nReplace the ribbon"),
    "fault.card_jam": ("Kartu macet\nBuka, ambil kartunya", "Card jammed\nOpen, remove the card"),
    "fault.paper_out": ("Kertas habis\nPasang gulungan baru", "Paper out\nLoad a new roll"),
    "fault.clock": ("Waktu tidak akurat\nHubungi teknisi", "Clock not trusted\nHave the time set"),
    "fault.power": ("Gangguan daya\nHubungi teknisi", "Power board fault\nCall a technician"),
    "fault.power_firmware": (
        "Firmware tidak cocok\nHubungi teknisi",
        "Firmware mismatch\nCall a technician",
    ),
    "fault.storage_full": (
        "Penyimpanan penuh\nKumpulkan data",
        "Storage full\nCollect the records",
    ),
    "fault.storage": (
        "Gagal menulis data\nHubungi teknisi",
        "Could not write data\nCall a technician",
    ),
    "fault.keys": ("Kunci kit rusak\nHubungi teknisi", "Kit keys damaged\nCall a technician"),
    "fault.unknown": (
        "Gangguan tak terduga\nHubungi teknisi",
        "Unexpected error\nCall a technician",
    ),
    # -- quality checks (capture.face_quality.FaceProblem, capture.finger_quality) ------
    "quality.face.no_face": (
        "Wajah tidak terlihat\nHadap ke kamera",
        "No face seen\nFace the camera",
    ),
    "quality.face.face_turned": (
        "Wajah menoleh\nHadap lurus ke kamera",
        "Face turned away\nLook straight at it",
    ),
    "quality.face.several_faces": (
        "Lebih dari satu orang\nSatu orang saja",
        "More than one person\nOne person only",
    ),
    "quality.face.too_far": ("Terlalu jauh\nMendekat ke kamera", "Too far away\nCome closer"),
    "quality.face.too_close": ("Terlalu dekat\nMundur sedikit", "Too close\nStep back a little"),
    "quality.face.off_centre": (
        "Tidak di tengah\nBerdiri di tengah",
        "Not centred\nStand in the middle",
    ),
    "quality.face.eyes_not_found": (
        "Mata tidak terlihat\nBuka mata, lepas\nkacamata gelap",
        "Eyes not seen\nOpen eyes, remove\ndark glasses",
    ),
    "quality.face.blurred": ("Foto kabur\nDiam sebentar", "Photo blurred\nHold still"),
    "quality.face.too_dark": ("Terlalu gelap\nNyalakan lampu", "Too dark\nTurn on a light"),
    "quality.face.too_bright": (
        "Terlalu terang\nJauhi jendela/lampu",
        "Too bright\nAway from window",
    ),
    "quality.face.uneven_light": (
        "Cahaya tidak rata\nHadapkan ke cahaya",
        "Uneven light\nFace the light",
    ),
    "quality.face.busy_background": (
        "Latar tidak polos\nBerdiri depan dinding",
        "Background not plain\nStand by plain wall",
    ),
    "quality.finger.no_finger": ("Jari tidak terlihat", "No finger seen"),
    "quality.finger.partial": (
        "Jari kurang penuh\nLetakkan di tengah",
        "Finger not all on\nPlace it centred",
    ),
    "quality.finger.wet": ("Jari basah\nKeringkan jari", "Finger wet\nDry the finger"),
    "quality.finger.dry": ("Jari kering\nTekan lebih kuat", "Finger dry\nPress a bit harder"),
    "quality.finger.smudged": ("Sidik buram\nJangan geser jari", "Print smeared\nDo not slide"),
    "quality.finger.unclear_flow": (
        "Garis jari kabur\nBersihkan kaca",
        "Ridges unclear\nClean the glass",
    ),
    "quality.finger.few_minutiae": ("Sidik kurang jelas\nTekan rata", "Print unclear\nPress flat"),
    "quality.finger.low_score": ("Mutu sidik rendah\nUlangi", "Print quality low\nTry again"),
}


def prompt(key: str, language: Language = Language.ID, **values: object) -> list[str]:
    """The lines of prompt ``key`` in ``language``, placeholders filled."""
    text = CATALOGUE[key][0 if language is Language.ID else 1]
    return text.format(**values).split("\n")


def heading(key: str, language: Language = Language.ID) -> str:
    """The first line of prompt ``key`` as written, placeholders unfilled: what a screen
    showing that prompt opens with, when the line has no placeholder."""
    return CATALOGUE[key][0 if language is Language.ID else 1].split("\n")[0]


def word(key: str, language: Language = Language.ID, **values: object) -> str:
    """A one-line prompt (a finger name, a menu item) as a string."""
    return prompt(key, language, **values)[0]
