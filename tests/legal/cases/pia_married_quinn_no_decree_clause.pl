% Text
% Pia married Quinn on August 1st, 2011. They have lived in different cities since 2015, but no
% court has issued a decree of divorce or of separate maintenance.
% (The marriage is stated the way "Pia married Quinn" reads: Pia its agent, Quinn its
% patient.)
% By hand: living apart is no legal separation: §2(b)(2)(A) needs a decree, so it does not
% apply in 2018.

% Question
% Section 2(b)(2)(A) applies to Pia and Quinn's marriage for the year 2018. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(pia_quinn_marriage).
agent_(pia_quinn_marriage,pia).
patient_(pia_quinn_marriage,quinn).
start_(pia_quinn_marriage,"2011-08-01").
residence_(pia_lives_in_reno).
agent_(pia_lives_in_reno,pia).
patient_(pia_lives_in_reno,pia_flat).
start_(pia_lives_in_reno,"2015-01-01").
residence_(quinn_lives_in_boise).
agent_(quinn_lives_in_boise,quinn).
patient_(quinn_lives_in_boise,quinn_house).
start_(quinn_lives_in_boise,"2015-01-01").

% Test
:- \+ s2_b_2_A(pia_quinn_marriage,2018).
:- halt.
