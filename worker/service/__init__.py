"""The worker service: what Node talks to (socket.io commands and events, files over HTTP).

app.py wires it (Flask-SocketIO, threading mode; README: Architecture); commands.py is what each
command does; runs.py keeps the runs and changes them, monitor.py follows their folders (events
relayed, ends noticed, new folders found), devices.py holds the queue and the device slots,
run_folder.py reads one folder (its RunInfo, a fold over its events) and
trainer_process.py starts a trainer on one and sees how it ended; textures.py and jobs.py keep
the textures and the video jobs. It imports from the trainer's modules (config, data, events,
checkpoint...) and calls stylize, synthesize and export, but never imports the trainer, the
sweep or the optimiser: it starts trainers as processes (tests/python/test_protocol.py).

    python -m worker.service --runs DIR --uploads DIR   (Node starts it so; TN_WORKER_TOKEN set)
"""
