% Text
% Olaf, born January 9th, 1960, has been married to Pam since 1985. Pam was born on February 2nd,
% 1945 and was paid $12000 in 2017. They file separate returns for 2017.
% By hand: Pam has gross income, so §151(b) allows Olaf no exemption for her: §63(f)(1)(B) does
% not apply.

% Question
% Section 63(f)(1)(B) applies to Olaf in 2017. Contradiction

% Facts
:- [statutes/prolog/init].
birth_(olaf_born).
agent_(olaf_born,olaf).
start_(olaf_born,"1960-01-09").
birth_(pam_born).
agent_(pam_born,pam).
start_(pam_born,"1945-02-02").
marriage_(olaf_and_pam).
agent_(olaf_and_pam,olaf).
agent_(olaf_and_pam,pam).
start_(olaf_and_pam,"1985-06-01").
payment_(pam_paid).
patient_(pam_paid,pam).
amount_(pam_paid,12000).
start_(pam_paid,"2017-12-31").
payment_(olaf_paid).
patient_(olaf_paid,olaf).
amount_(olaf_paid,50000).
start_(olaf_paid,"2017-12-31").

% Test
:- \+ s63_f_1_B(olaf,2017).
:- halt.
