

def test_subshell_created_while_the_main_shell_is_busy(kc: BlockingKernelClient) -> None:
    """A console attached to a busy kernel makes a subshell to look around (the subshell's
    router takes the shell socket while the main shell's cell runs)."""
    run(kc, "import threading; release = threading.Event()")
    main_id = send_execute(kc, "print('main waits', flush=True); assert release.wait(20); print('main done')", None)
    wait_for_stream(kc, main_id, "main waits")
    subshell = control(kc, "create_subshell_request")["content"]["subshell_id"]
    reply, out = run(kc, "print('looking around'); release.set()", subshell)
    assert (reply["content"]["status"], out) == ("ok", "looking around\n")
    reply = shell_reply(kc)
    assert (reply["parent_header"]["msg_id"], reply["content"]["status"]) == (main_id, "ok")
    # deleted while the main shell is idle again: it reads the shell socket itself again
    control(kc, "delete_subshell_request", subshell_id=subshell)
    reply, out = run(kc, "print('main again')")
    assert (reply["content"]["status"], out) == ("ok", "main again\n")
