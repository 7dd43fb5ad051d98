% Text
% Kim and Lee married on 2014-06-14. Kim's mother Mina lives with them. For 2017 Kim files a
% joint return with Lee; Noor, Kim's brother, files a separate return.
% By hand: §152(b)(2), "if such individual has made a joint return with the individual's
% spouse for the taxable year": Kim made one with Lee for 2017. The question names the spouse
% (a form no training question uses, three arguments); asked of Noor and Lee it is no.

% Question
% Section 152(b)(2) applies to Noor with Lee as the spouse for 2017. Contradiction

% Facts
:- [statutes/prolog/init].
marriage_(kim_lee).
agent_(kim_lee,kim).
agent_(kim_lee,lee).
start_(kim_lee,"2014-06-14").
mother_(mina_mother).
agent_(mina_mother,mina).
patient_(mina_mother,kim).
patient_(mina_mother,noor).
brother_(noor_brother).
agent_(noor_brother,noor).
patient_(noor_brother,kim).
joint_return_(kim_lee_2017).
agent_(kim_lee_2017,kim).
agent_(kim_lee_2017,lee).
start_(kim_lee_2017,"2017-01-01").
end_(kim_lee_2017,"2017-12-31").

% Test
:- s152_b_2(noor,lee,2017).
:- halt.
