% Text
% Yara is single and earned $60000 in 2017. On three evenings in 2017 (February 3rd, May 5th
% and September 8th) Zoe looked after Yara's children at Yara's home, domestic service for
% which Yara paid her $300 in cash each time.
% By hand: $900 of cash wages for domestic service, under $1,000 (§3306(a)(3)).

% Question
% Section 3306(a)(3) makes Yara an employer for the year 2017. Contradiction

% Facts
:- [statutes/prolog/init].
payment_(yara_salary).
patient_(yara_salary,yara).
amount_(yara_salary,60000).
start_(yara_salary,"2017-12-31").
sitting(1,"2017-02-03").
sitting(2,"2017-05-05").
sitting(3,"2017-09-08").
service_(S) :- sitting(N,_), format(atom(S),'zoe_sits_~w',[N]).
agent_(S,zoe) :- service_(S).
patient_(S,yara) :- service_(S).
purpose_(S,"domestic service") :- service_(S).
start_(S,D) :- sitting(N,D), format(atom(S),'zoe_sits_~w',[N]).
end_(S,D) :- sitting(N,D), format(atom(S),'zoe_sits_~w',[N]).
payment_(P) :- sitting(N,_), format(atom(P),'yara_pays_zoe_~w',[N]).
agent_(P,yara) :- sitting(N,_), format(atom(P),'yara_pays_zoe_~w',[N]).
patient_(P,zoe) :- sitting(N,_), format(atom(P),'yara_pays_zoe_~w',[N]).
amount_(P,300) :- sitting(N,_), format(atom(P),'yara_pays_zoe_~w',[N]).
means_(P,cash) :- sitting(N,_), format(atom(P),'yara_pays_zoe_~w',[N]).
purpose_(P,S) :- sitting(N,_), format(atom(P),'yara_pays_zoe_~w',[N]), format(atom(S),'zoe_sits_~w',[N]).
start_(P,D) :- sitting(N,D), format(atom(P),'yara_pays_zoe_~w',[N]).

% Test
:- \+ s3306_a_3(yara,2017,_).
:- halt.
