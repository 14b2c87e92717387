from htrkit.cli import main

main()
